# Turns the status page's files (host/http_assets/*) into a C source of byte
# arrays, so the binary serves them with no file beside it and no build
# step outside CMake. Run as a script at build time:
#
#   cmake -DOUTPUT=http_assets.c -DASSET_DIR=host/http_assets -P embed_assets.cmake
#
# Every file of ASSET_DIR is served under its name at the root (/status.js).
# Every array ends with a NUL that `size` does not count, so a template can
# be read as a C string. The table's type is in host/http_assets.h.
if(NOT OUTPUT OR NOT ASSET_DIR)
  message(FATAL_ERROR "embed_assets.cmake: OUTPUT and ASSET_DIR are required")
endif()
file(GLOB ASSETS "${ASSET_DIR}/*")
list(SORT ASSETS)

set(_body "/* Generated from host/http_assets/ by cmake/embed_assets.cmake: do not edit. */\n")
string(APPEND _body "#include \"http/http_assets.h\"\n\n")
set(_table "")
set(_index 0)
foreach(_file IN LISTS ASSETS)
  get_filename_component(_name "${_file}" NAME)
  get_filename_component(_ext "${_file}" LAST_EXT)
  if(_ext STREQUAL ".html")
    set(_type "text/html; charset=utf-8")
  elseif(_ext STREQUAL ".css")
    set(_type "text/css; charset=utf-8")
  elseif(_ext STREQUAL ".js")
    set(_type "text/javascript; charset=utf-8")
  else()
    message(FATAL_ERROR "embed_assets.cmake: ${_file}: no content type for '${_ext}'")
  endif()
  file(READ "${_file}" _hex HEX)
  string(LENGTH "${_hex}" _hex_len)
  math(EXPR _size "${_hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
  string(APPEND _body "static const unsigned char asset_${_index}[] = {\n    ${_bytes}0x00};\n\n")
  string(APPEND _table "    {\"/${_name}\", \"${_type}\", asset_${_index}, ${_size}},\n")
  math(EXPR _index "${_index} + 1")
endforeach()
string(APPEND _body "const http_asset http_assets[] = {\n${_table}    {0, 0, 0, 0}};\n")

# Written only when it changed, so a rebuild does not recompile for nothing.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" _old)
  if(_old STREQUAL _body)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${_body}")
