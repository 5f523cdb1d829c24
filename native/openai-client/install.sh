#!/usr/bin/env bash
# The official OpenAI client for the server's end-to-end test (make openai-client; make test runs it): the npm
# package openai 6.49.0 (pinned, checksummed; no dependencies, runs on Node >= 18), unpacked into OUT/node_modules
# (default target/openai-client, ignored by git). Nothing is installed elsewhere.
set -euo pipefail
out=${1:-target/openai-client}
version=6.49.0
sha=e48de0f4c5dbecebdeb864233f5ea49be07cd3e0ff3bd3e1e6745dc5e168cced
die() { echo "openai-client: $*" >&2; exit 1; }

[ -f "$out/.installed-$version" ] && exit 0
for tool in npm node tar sha256sum; do command -v $tool >/dev/null || die "needs $tool on PATH"; done
rm -rf "$out" && mkdir -p "$out/download" "$out/node_modules/openai"
(cd "$out/download" && npm pack --silent "openai@$version" >/dev/null) || die "npm could not fetch openai@$version from the registry"
echo "$sha  $out/download/openai-$version.tgz" | sha256sum -c --quiet - || die "openai-$version.tgz checksum differs"
tar xzf "$out/download/openai-$version.tgz" -C "$out/node_modules/openai" --strip-components=1
rm -rf "$out/download"
touch "$out/.installed-$version"
echo "openai-client: openai $version (npm) in $out, node $(node --version)"
