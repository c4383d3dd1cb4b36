#!/usr/bin/env bash
# Runs one pipeline stage and prints one line with its name and wall time,
# so `make report` shows where the time goes.
name=$1; shift
start=$(date +%s%N)
"$@"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$rc" -eq 0 ]; then
  printf '%-12s %5d.%02d s\n' "$name" $((ms / 1000)) $((ms % 1000 / 10))
else
  printf '%s failed (exit %d) after %d.%02d s\n' "$name" "$rc" $((ms / 1000)) $((ms % 1000 / 10)) >&2
fi
exit "$rc"
