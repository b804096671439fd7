# kill9_loop CONFIG KILLS: runs CONFIG and kills it with SIGKILL at a random
# moment, KILLS times, restarting each time; then runs it to its end. A run
# that finishes before its kill point starts the whole thing over from
# empty output (reset_output, defined by the caller), so every kill lands in
# an unfinished run. Calls after_kill N (if defined) after each kill.
# Sets RESTARTS_FROM_SCRATCH. Needs lib.sh.
kill9_loop() {
  local config="$1" want="$2" kills=0 attempts=0 delay
  RESTARTS_FROM_SCRATCH=0
  while (( kills < want )); do
    attempts=$((attempts + 1))
    (( attempts <= want * 10 )) || fail "runs kept finishing before their kill point ($kills kills in $attempts runs)"
    start "$config" run.log
    # Anywhere from plugin start-up to the middle of a flush.
    delay=$(( ${KILL9_MIN_MS:-50} + RANDOM % (${KILL9_MAX_MS:-1500} - ${KILL9_MIN_MS:-50}) ))
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    if kill -KILL "$RDAPSYNC_PID" 2>/dev/null; then
      wait_exit
      kills=$((kills + 1))
      echo "== kill $kills after ${delay} ms" >>run.log
      if declare -F after_kill >/dev/null; then after_kill "$kills"; fi
    else
      wait_exit
      [[ "$STATUS" -eq 0 ]] || fail "a run exited $STATUS before its kill point"
      log "a run finished before its kill point ($kills kills so far): starting over from empty output"
      RESTARTS_FROM_SCRATCH=$((RESTARTS_FROM_SCRATCH + 1))
      reset_output
    fi
  done
  log "$kills kills done; running to the end"
  start "$config" run.log
  wait_exit
  [[ "$STATUS" -eq 0 ]] || fail "the final run exited $STATUS"
}
