#!/usr/bin/env bash
# llama.cpp for the interop tests (make llamacpp; make test runs it): the prebuilt CPU libraries that the
# npm registry serves in node-llama-cpp 3.21.1 (pinned; tarball checksums below), unpacked into OUT
# (default target/llamacpp, ignored by git), the headers of the same llama.cpp commit taken from the git
# bundle inside the package, and llama-probe.c compiled against them. Nothing is installed elsewhere and
# no llama.cpp code enters the repository. Runs once per clone (OUT/.installed marks it done).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-target/llamacpp}
version=3.21.1
sha_main=7a231d6bafa14142a1cbed9893d4ec5bc6041b2a5f5939a623accaab4203c11f
sha_bins=4b5b65a8b2611d8af94349b02d815c0f424a30a0a19aef2be5db25ecfef6730f
die() { echo "llamacpp: $*" >&2; exit 1; }

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || die "the npm package's prebuilt libraries are for Linux x86-64; this is $(uname -s)-$(uname -m)"
if [ -f "$out/.installed" ] && [ "$out/llama-probe" -nt "$here/llama-probe.c" ]; then exit 0; fi
for tool in npm git cc tar sha256sum; do command -v $tool >/dev/null || die "needs $tool on PATH"; done

rm -rf "$out" && mkdir -p "$out/download"
(cd "$out/download" && npm pack --silent "node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version" >/dev/null) \
  || die "npm could not fetch node-llama-cpp@$version from the registry (network or registry down?)"
echo "$sha_main  $out/download/node-llama-cpp-$version.tgz" | sha256sum -c --quiet - || die "node-llama-cpp-$version.tgz checksum differs"
echo "$sha_bins  $out/download/node-llama-cpp-linux-x64-$version.tgz" | sha256sum -c --quiet - || die "node-llama-cpp-linux-x64-$version.tgz checksum differs"
mkdir -p "$out/main" "$out/linux-x64" "$out/headers"
tar xzf "$out/download/node-llama-cpp-$version.tgz" -C "$out/main"
tar xzf "$out/download/node-llama-cpp-linux-x64-$version.tgz" -C "$out/linux-x64"
mv "$out/linux-x64/package/bins/linux-x64" "$out/bins"
git init -q "$out/llama.cpp-git"
git -C "$out/llama.cpp-git" fetch -q "$(cd "$out/main/package/llama" && pwd)/gitRelease.bundle" HEAD
git -C "$out/llama.cpp-git" archive FETCH_HEAD include ggml/include | tar x -C "$out/headers"
cc -O2 -std=c11 -Wall -Wextra -Werror -I "$out/headers/include" -I "$out/headers/ggml/include" "$here/llama-probe.c" \
  -L "$out/bins" -l:libllama.v0.4.0.so -l:libggml.v0.4.0.so -l:libggml-base.so -Wl,-rpath,'$ORIGIN/bins' -o "$out/llama-probe"
tag=$(sed -n 's/.*"tag": *"\([^"]*\)".*/\1/p' "$out/main/package/llama/llama.cpp.info.json")
rm -rf "$out/download" "$out/main" "$out/linux-x64" "$out/llama.cpp-git"
touch "$out/.installed"
echo "llamacpp: llama.cpp release $tag (node-llama-cpp $version) and llama-probe in $out"
