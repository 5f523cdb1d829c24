#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader of untrusted files (Jazzer), after `mvn package` built
# java/fuzz. Usage: java/fuzz/fuzz.sh SECONDS_PER_TARGET [TARGET...]   (targets: safetensors gguf
# entro tokenizer config; all when none are named). Seeds are written fresh from the bundled model
# into target/fuzz/seeds/; the corpus grows in target/fuzz/corpus/ across runs; findings land in
# target/fuzz/findings/TARGET/ and make the script fail: copy each into java/fuzz/regressions/TARGET/
# (named after what it broke) with the fix, and FuzzRegressionTest replays it from then on.
set -euo pipefail
seconds=${1:?seconds per target}; shift
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(safetensors gguf entro tokenizer config)
root=$(cd "$(dirname "$0")/../.." && pwd); cd "$root"
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
cp="java/fuzz/target/classes:$(cat java/fuzz/target/fuzz.classpath)"
out=target/fuzz
declare -A class=([safetensors]=SafetensorsFuzz [gguf]=GgufFuzz [entro]=EntroFuzz [tokenizer]=TokenizerJsonFuzz [config]=ConfigJsonFuzz)
rm -rf "$out/seeds"
"$java" -cp "$cp" io.entrollm.fuzz.FuzzSeeds "$out/seeds"
failed=0
rm -rf "$out/findings"
# the decoder's C loops too, where make built them (the readers then decode through them): a fault behind the
# Java checks would crash the JVM, which libFuzzer reports as a finding
native=()
[ -f target/native/libentrohuff.so ] && native=(-Dentrollm.nativeHuffman="$PWD/target/native/libentrohuff.so")
for t in "${targets[@]}"; do
  [ -n "${class[$t]:-}" ] || { echo "fuzz: unknown target '$t' (one of ${!class[*]})"; exit 2; }
  mkdir -p "$out/corpus/$t" "$out/findings/$t"
  log="$out/$t.log"
  # -Xmx: an input that makes a reader allocate beyond a small model's needs is a finding (sizes are checked first)
  # --keep_going: report every distinct finding of the run, not just the first
  set +e
  "$java" -Xmx1g -Xss1m -XX:+EnableDynamicAgentLoading --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector "${native[@]}" \
    -cp "$cp" com.code_intelligence.jazzer.Jazzer --target_class="io.entrollm.fuzz.${class[$t]}" \
    --instrumentation_includes='io.entrollm.**' --keep_going=50 --reproducer_path="$out/findings/$t" \
    -artifact_prefix="$out/findings/$t/" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
    -print_final_stats=1 "$out/corpus/$t" "$out/seeds/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(ls "$out/findings/$t" | grep -c '^crash-\|^timeout-\|^oom-' || true)
  echo "fuzz $t: ${runs:-?} executions in ${seconds}s, corpus $(ls "$out/corpus/$t" | wc -l) inputs, findings: $crashes (log: $log)"
  if [ "$crashes" != 0 ] || [ $rc != 0 ]; then
    failed=1
    grep -E '^== Java Exception|^== libFuzzer|^==[0-9]+== ERROR' "$log" | sort | uniq -c | head -20 || true
  fi
done
exit $failed
