#!/usr/bin/env bash
# kernel-tu.sh FILE.cu: prints the translation unit that compiles FILE.cu for the CUDA simulator:
# the source with each `extern __shared__ T name[];` (dynamic shared memory, which C++ cannot
# declare) turned into a pointer to the launch's dynamic shared buffer, followed by one
# registration per `extern "C" __global__` kernel. Everything else is the source as nvcc sees it.
set -euo pipefail
src=$1
echo "#line 1 \"$src\""
sed -E 's/extern[[:space:]]+__shared__[[:space:]]+([A-Za-z_][A-Za-z_0-9:]*)[[:space:]]+([A-Za-z_][A-Za-z_0-9]*)[[:space:]]*\[\][[:space:]]*;/\1* \2 = static_cast<\1*>(cudasim_dynamic_shared());/' "$src"
echo
grep -oE 'extern "C"[[:space:]]+__global__[[:space:]]+void[[:space:]]+[A-Za-z_][A-Za-z_0-9]*' "$src" | awk '{print "CUDASIM_REGISTER(" $NF ")"}'
