#!/bin/sh
# The running step on both engines: runs the pipeline program (INPUTS_DIR/program.<ext>) in a
# fresh working directory, whatever the image's own CMD. A KFP v1 program in the lab's template
# format runs through kfp_runner.py (only its running component function); any other program
# runs with the interpreter its extension names. POSIX sh: it runs in the build file's image.
set -eu
export PYTHONDONTWRITEBYTECODE=1 # the runtime may sit in a read-only directory

runtime=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
inputs=${INPUTS_DIR:?INPUTS_DIR is not set}
scratch=${SCRATCH_DIR:-$(mktemp -d)}
mkdir -p "$scratch"

# The lab's SDK (python requests) takes credentials for a host from $NETRC: the task's own
# credential, for the service's host only, in a file only this step can read.
host=$(printf '%s' "${ARGO_ENTRYPOINT_URL:-}" | sed -e 's#^[A-Za-z][A-Za-z0-9+.-]*://##' -e 's#[/:].*$##')
if [ -n "$host" ] && [ -n "${TASK_TOKEN:-}" ]; then
  (umask 077 && printf 'machine %s login task:%s password %s\n' "$host" "$TASK_UID" "$TASK_TOKEN" > "$scratch/.netrc")
  export NETRC="$scratch/.netrc"
fi

program=""
for candidate in "$inputs"/program.*; do
  [ -f "$candidate" ] && program=$candidate && break
done
if [ -z "$program" ]; then
  echo "running: the download step left no pipeline program (program.<ext>) in $inputs" >&2
  exit 66
fi

# A KFP v1 template imports kfp at module level and wraps its steps with func_to_container_op.
case "$program" in
  *.py)
    if grep -Eq '^(import kfp|from kfp([.][A-Za-z_.]+)? import)' "$program" && grep -q 'func_to_container_op' "$program"; then
      cd "$scratch" # its functions make relative scratch folders
      exec python3 "$runtime/kfp_runner.py" "$program"
    fi ;;
esac

# Any other program: the interpreter its extension names, in its output directory.
cd "${OUTPUTS_DIR:?OUTPUTS_DIR is not set}"
case "$program" in
  *.py) exec python3 "$program" ;;
  *.js | *.mjs | *.cjs) exec "${NODE:-node}" "$program" ;;
  *.sh) exec bash "$program" ;;
  *)
    echo "running: no interpreter runs $(basename "$program") (use .py, .js, .mjs, .cjs or .sh)" >&2
    exit 64 ;;
esac
