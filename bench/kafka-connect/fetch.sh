#!/usr/bin/env bash
# Fetches Kafka Connect and the Debezium JDBC sink from Maven Central with
# mvn (throwaway poms; Maven's own repository stays ~/.m2), cached in
# ~/.cache/rdapsync/kcbench-<versions>/{libs,plugins}:
#  * org.apache.kafka:connect-runtime, connect-json, kafka-clients $KC_VERSION
#    and slf4j-simple (so the worker logs) -> libs/ (dependency:copy-dependencies)
#  * Debezium's own plugin archive
#    io.debezium:debezium-connector-jdbc:$DBZ_VERSION:tar.gz:plugin -> plugins/
#    (dependency:unpack): the jars Debezium ships, PostgreSQL's JDBC driver
#    included. Not the jar with its dependencies: 3.6.1.Final is not served,
#    and 3.6.0.Final's pom names a hibernate-agroal version that is not either.
# Prints the cache folder.
set -euo pipefail
KC_VERSION=${KC_VERSION:-4.3.1}
DBZ_VERSION=${DBZ_VERSION:-3.6.0.Final}
SLF4J_VERSION=1.7.36 # the slf4j-api connect-runtime resolves
CACHE="${RDAPSYNC_CACHE_DIR:-$HOME/.cache/rdapsync}/kcbench-kc$KC_VERSION-dbz$DBZ_VERSION"
if [[ -f $CACHE/.complete ]]; then echo "$CACHE"; exit 0; fi
command -v mvn >/dev/null || { echo "mvn not found (Debian package maven)" >&2; exit 1; }
mkdir -p "$(dirname "$CACHE")"
work=$(mktemp -d "$(dirname "$CACHE")/kcbench-pom.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/runtime" "$work/plugin" "$work/out/libs" "$work/out/plugins"
# Debezium's parent pom names other repositories: send every one to Central.
cat >"$work/settings.xml" <<XML
<settings><mirrors><mirror><id>central-only</id><mirrorOf>*</mirrorOf>
<url>https://repo.maven.apache.org/maven2</url></mirror></mirrors></settings>
XML
cat >"$work/runtime/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>rdapsync.bench</groupId><artifactId>connect-runtime-libs</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId><version>$KC_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-json</artifactId><version>$KC_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId><version>$KC_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
MVN=(mvn -B -q -s "$work/settings.xml")
(cd "$work/runtime" && "${MVN[@]}" dependency:copy-dependencies -DoutputDirectory="$work/out/libs" \
   -DincludeScope=runtime >"$work/runtime.log" 2>&1) ||
  { tail -n 30 "$work/runtime.log" >&2; echo "connect-runtime $KC_VERSION: mvn failed" >&2; exit 1; }
(cd "$work/plugin" && "${MVN[@]}" dependency:unpack \
   -Dartifact="io.debezium:debezium-connector-jdbc:$DBZ_VERSION:tar.gz:plugin" \
   -DoutputDirectory="$work/out/plugins" >"$work/plugin.log" 2>&1) ||
  { tail -n 30 "$work/plugin.log" >&2; echo "debezium-connector-jdbc $DBZ_VERSION plugin archive: mvn failed" >&2; exit 1; }
# The archive's pax headers come out as a folder of their own: not a plugin.
rm -rf "$work/out/plugins"/PaxHeaders*
[[ -f $work/out/plugins/debezium-connector-jdbc/debezium-connector-jdbc-$DBZ_VERSION.jar ]] ||
  { echo "no debezium-connector-jdbc-$DBZ_VERSION.jar in the plugin archive" >&2; exit 1; }
rm -rf "$CACHE"
mv "$work/out" "$CACHE"
echo "kc=$KC_VERSION dbz=$DBZ_VERSION" >"$CACHE/.complete"
echo "$CACHE"
