#!/usr/bin/env bash
# Runs one pipeline stage and prints a line when it starts and one with its
# name and wall time when it ends, so the terminal shows what is running and where the time goes.
name=$1; shift
printf '%-12s started\n' "$name"
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
