#!/usr/bin/env bash
# The quickstart: registers the sample (examples/), runs preprocessing then training with the
# seed's request bodies, and shows task info, logs per step and the model download.
# Needs the service running (`npm start`) and curl. Uses AK/SK if set, else creates a user.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE:-http://127.0.0.1:${PORT:-8080}}
API="$BASE/api/v1.2.4/entrypoint/Router/parse"
EX=examples

# Reads a JSON document on stdin and prints the value at a dotted path (e.g. data.uid).
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];if(v===undefined){console.error("missing "+process.argv[1]+" in "+s);process.exit(1)}console.log(typeof v==="object"?JSON.stringify(v):v)})' "$1"; }

if [ -z "${AK:-}" ] || [ -z "${SK:-}" ]; then
  npm run -s cli -- org create demo-lab >/dev/null 2>&1 || true
  AK="demo-$(date +%s)"
  SK=$(npm run -s cli -- user create --org demo-lab --access-key "$AK" | field secret_key)
  echo "created user $AK (its secret was printed once by the CLI and is used below)"
fi
CRED=(-F "access_key=$AK" -F "secret_key=$SK")
post() { curl -sS --fail-with-body "$API/$1" -H 'Content-Type: application/json' -d "$2"; }
auth() { printf '"access_key":"%s","secret_key":"%s"' "$AK" "$SK"; }
form() { curl -sS --fail-with-body "$API/$1" "${CRED[@]}" "${@:2}"; }

echo "== registering the sample"
PROJECT=$(post 9Q1lCs56iud4oPcS "{$(auth),\"name\":\"demo\",\"description\":\"quickstart\"}" | field data.uid)
APP=$(post iGXyNAx4Kp3DrosK "{$(auth),\"application_name\":\"demo-app\",\"application_description\":\"\",\"f_project_uid\":\"$PROJECT\"}" | field data.uid)
ORIGINAL=$(form OFbaCJE62lcPVbZj -F name=original -F description=raw -F type=original -F f_project_uid="$PROJECT" -F extension=zip -F file=@$EX/dataset.zip | field data.uid)

pipeline() { # type program config -> "pipeline config download running upload"
  local p c d r u
  p=$(form FgdSO4ryg2UA2APl -F name="$1" -F description=sample -F type="$1" -F f_application_uid="$APP" -F extension="${2##*.}" -F file=@"$EX/$2" | field data.uid)
  c=$(post 42XzWaxjE6dKA9mZ "{$(auth),\"name\":\"$1-config\",\"description\":\"\",\"data\":$(cat "$EX/$3"),\"f_pipeline_uid\":\"$p\"}" | field data.uid)
  d=$(form lwO7afcqdKtKEAhb -F name=download -F sequence=download -F f_pipeline_uid="$p" -F extension=null -F file=@$EX/Dockerfile | field data.uid)
  r=$(form lwO7afcqdKtKEAhb -F name=running -F sequence=running -F f_pipeline_uid="$p" -F extension=null -F file=@$EX/Dockerfile | field data.uid)
  u=$(form lwO7afcqdKtKEAhb -F name=upload -F sequence=upload -F f_pipeline_uid="$p" -F extension=null -F file=@$EX/Dockerfile | field data.uid)
  echo "$p $c $d $r $u"
}
read -r PRE_P PRE_C PRE_D PRE_R PRE_U <<<"$(pipeline preprocessing preprocess.py preprocessing-config.json)"
read -r TRN_P TRN_C TRN_D TRN_R TRN_U <<<"$(pipeline training train.py training-config.json)"

wait_for() { # task uid -> final status
  local status
  for _ in $(seq 1 300); do
    status=$(post KlnZtRyqy3rPAZWL "{$(auth),\"uid\":\"$1\"}" | field data.status)
    case "$status" in success|fail|"init error") echo "$status"; return;; esac
    sleep 1
  done
  echo "timeout"
}

echo "== preprocessing (the seed's body)"
PRE=$(post jPqyAFWh7hBKRRNK "{$(auth),\"task_name\":\"test_preprocessing_task\",\"task_description\":\"test preprocessing task\",
  \"pipeline_uid\":\"$PRE_P\",\"dataset_uid\":\"$ORIGINAL\",\"type\":\"project\",\"config_uid\":\"$PRE_C\",
  \"image_uid\":{\"download_uid\":\"$PRE_D\",\"running_uid\":\"$PRE_R\",\"upload_uid\":\"$PRE_U\"},
  \"dataset_name\":\"demo_training_dataset\",\"dataset_description\":\"demo_training_dataset_description\",
  \"dataset_type\":\"training\",\"dataset_file_extension\":\"zip\"}")
echo "$PRE"
PRE_TASK=$(echo "$PRE" | field data.uid)
TRAINING_DATASET=$(echo "$PRE" | field data.training_dataset_uid)
echo "preprocessing task $PRE_TASK: $(wait_for "$PRE_TASK")"

echo "== training (the seed's body) on the preprocessed dataset"
TRN=$(post q8uzMBcM5YJH6dPf "{$(auth),\"task_name\":\"test_training_task\",\"task_description\":\"test training task\",
  \"pipeline_uid\":\"$TRN_P\",\"dataset_uid\":\"$TRAINING_DATASET\",\"type\":\"project\",\"config_uid\":\"$TRN_C\",
  \"image_uid\":{\"download_uid\":\"$TRN_D\",\"running_uid\":\"$TRN_R\",\"upload_uid\":\"$TRN_U\"},
  \"model_name\":\"demo_model\",\"model_description\":\"demo\",\"model_type\":\"default\",
  \"model_input_format\":\"float32\",\"model_output_format\":\"float32\",\"model_file_extension\":\"zip\"}")
echo "$TRN"
TRN_TASK=$(echo "$TRN" | field data.uid)
MODEL=$(echo "$TRN" | field data.model_uid)
echo "training task $TRN_TASK: $(wait_for "$TRN_TASK")"

echo "== task info"
post KlnZtRyqy3rPAZWL "{$(auth),\"uid\":\"$TRN_TASK\"}"; echo
echo "== logs per step"
post bJ7xLmgp4WSWK498 "{$(auth),\"task_uid\":\"$TRN_TASK\",\"type\":\"training\"}"; echo
echo "== model download"
TOKEN=$(post EU2X3oWVHQiEoYBi "{$(auth),\"f_application_uid\":\"$APP\"}" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).data.find(m=>m.uid===process.argv[1]).access_token))' "$MODEL")
curl -sS --fail-with-body "$API/4AJSfvc4mn8xzy2U" -H 'Content-Type: application/json' -d "{$(auth),\"uid\":\"$MODEL\",\"access_token\":\"$TOKEN\"}" -o demo-model.zip
echo "saved demo-model.zip ($(wc -c < demo-model.zip) bytes)"
echo "== the dashboard"
echo "open $BASE/ui/ and sign in with access key $AK and secret key $SK"
