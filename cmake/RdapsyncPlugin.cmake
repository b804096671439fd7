# rdapsync_add_plugin(NAME <name> KIND <source|transform|sink> SOURCES <files...> [LIBRARIES <targets...>])
#
# Builds one plugin as a MODULE named <kind>-<name>.so, the file name the
# host looks for on its plugin path. The same function builds in-tree plugins
# and third-party ones against an installed SDK (find_package(rdapsync)).
# Plugins export only their entry symbol and may not leave undefined
# symbols: they reach the host only through the services table.
function(rdapsync_add_plugin)
  cmake_parse_arguments(P "" "NAME;KIND" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_NAME OR NOT P_KIND OR NOT P_SOURCES)
    message(FATAL_ERROR "rdapsync_add_plugin: NAME, KIND and SOURCES are required")
  endif()
  if(NOT P_KIND MATCHES "^(source|transform|sink)$")
    message(FATAL_ERROR "rdapsync_add_plugin(${P_NAME}): KIND must be source, transform or sink")
  endif()
  set(target "rdapsync_${P_KIND}_${P_NAME}")
  add_library(${target} MODULE ${P_SOURCES})
  if(TARGET rdapsync::sdk)
    target_link_libraries(${target} PRIVATE rdapsync::sdk)
  endif()
  if(P_LIBRARIES)
    target_link_libraries(${target} PRIVATE ${P_LIBRARIES})
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME "${P_KIND}-${P_NAME}"
    C_VISIBILITY_PRESET hidden
    C_STANDARD 11)
  if(NOT CMAKE_C_FLAGS MATCHES "sanitize" AND NOT RDAPSYNC_SANITIZE)
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
  if(DEFINED RDAPSYNC_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${RDAPSYNC_PLUGIN_OUTPUT_DIR}")
  endif()
  if(DEFINED RDAPSYNC_PLUGIN_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION "${RDAPSYNC_PLUGIN_INSTALL_DIR}")
  endif()
  set(RDAPSYNC_LAST_PLUGIN_TARGET ${target} PARENT_SCOPE)
endfunction()
