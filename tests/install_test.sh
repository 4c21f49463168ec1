#!/usr/bin/env bash
# Installs a rill build tree into a scratch prefix, then configures, builds and
# runs tests/install/consumer against it: proves find_package(rill CONFIG) and
# rill::rill (with its exported usage requirements) work downstream.
# usage: install_test.sh BUILD_DIR CONSUMER_SRC WORK_DIR CXX BUILD_TYPE CXX_FLAGS LD_FLAGS [CMAKE]
set -euo pipefail
build_dir=$1 consumer_src=$2 work=$3 cxx=$4 build_type=$5 cxx_flags=$6 ld_flags=$7
cmake_bin=${8:-cmake}

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

echo "== install $build_dir -> $prefix"
"$cmake_bin" --install "$build_dir" --prefix "$prefix"

echo "== configure consumer (CXX=$cxx, flags='$cxx_flags', ldflags='$ld_flags')"
"$cmake_bin" -S "$consumer_src" -B "$work/build" -G Ninja \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE="$build_type" \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_FLAGS="$cxx_flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$ld_flags"

echo "== build consumer"
"$cmake_bin" --build "$work/build" -- -v

echo "== run consumer"
"$work/build/consumer"
echo "install_consumer: OK"
