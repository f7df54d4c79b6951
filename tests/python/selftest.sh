#!/usr/bin/env bash
# End-to-end check of the Python side with hand-made messages (no connector needed):
#  Singer:  a SCHEMA/RECORD/STATE stream shaped like the connector's (["string","null"], an
#           object with additionalProperties and properties, an array, camelCase and dashed
#           names, `links` as object or empty array, $schema) -> target-jsonl and target-duckdb,
#           ids checked with singer_check.py; then a second batch (one changed id, one new id)
#           -> target-duckdb: upserted or duplicated?
#  Airbyte: one message of each kind the connector emits -> validate_airbyte.py (must pass),
#           then deliberately invalid messages (must fail).
# usage: bash tests/python/selftest.sh        (KEEP=1 keeps the scratch folder)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bash "$here/setup_venv.sh" || exit 1
AB="$root/.venv/airbyte/bin/python"
JSONL="$root/.venv/jsonl/bin"
DUCK="$root/.venv/duckdb/bin"
work=$(mktemp -d "${TMPDIR:-/tmp}/pyselftest.XXXXXX")
if [ "${KEEP:-}" = 1 ]; then echo "scratch: $work"; else trap 'rm -rf "$work"' EXIT; fi
cd "$work" || exit 1

pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
expect_eq() { # name want have
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: want $2, have $3"; fi
}

# ---------------------------------------------------------------- Singer
SCHEMA='{"type":"SCHEMA","stream":"contacts","key_properties":["id"],"schema":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":true,"properties":{"id":{"type":"string"},"email":{"type":["string","null"]},"createdTimestamp":{"type":["string","null"]},"first-name":{"type":["string","null"]},"score":{"type":["number","null"]},"fieldValues":{"type":["array","null"],"items":{"type":["string","null"]}},"address":{"type":["object","null"],"additionalProperties":true,"properties":{"city":{"type":["string","null"]},"zip":{"type":["string","null"]}}},"links":{"type":["object","array","null"],"additionalProperties":{"type":["string","null"]}}}}}'
cat > batch1.jsonl <<EOF
$SCHEMA
{"type":"RECORD","stream":"contacts","record":{"id":"1","email":"a@x.io","createdTimestamp":"2024-01-01T10:00:00-05:00","first-name":"Ann","score":1.5,"fieldValues":["a","b"],"address":{"city":"Oslo","zip":"0150","extra":"kept"},"links":{"lists":"https://x/1/lists"},"notInSchema":"x"}}
{"type":"RECORD","stream":"contacts","record":{"id":"2","email":null,"createdTimestamp":null,"first-name":"","score":null,"fieldValues":[],"address":null,"links":[]}}
{"type":"RECORD","stream":"contacts","record":{"id":"3","email":"c@x.io","createdTimestamp":"2024-01-03 00:00:00","first-name":"Cy","score":0,"fieldValues":null,"address":{"city":null},"links":{}}}
{"type":"STATE","value":{"bookmarks":{"contacts":{"cursor":"2024-01-03T00:00:00Z"}}}}
EOF
cat > batch2.jsonl <<EOF
$SCHEMA
{"type":"RECORD","stream":"contacts","record":{"id":"2","email":"b@x.io","createdTimestamp":"2024-02-01T00:00:00Z","first-name":"Bo","score":2,"fieldValues":["z"],"address":null,"links":{"lists":"https://x/2/lists"}}}
{"type":"RECORD","stream":"contacts","record":{"id":"4","email":"d@x.io","createdTimestamp":null,"first-name":"Di","score":null,"fieldValues":[],"address":null,"links":[]}}
{"type":"STATE","value":{"bookmarks":{"contacts":{"cursor":"2024-02-01T00:00:00Z"}}}}
EOF
# A batch whose every column is text: DuckDB >= 1.1 sniffs a CSV header in target-duckdb's
# header-less COPY and drops the first row (the reason duckdb is pinned to 1.0.0).
cat > textonly.jsonl <<'EOF'
{"type":"SCHEMA","stream":"tags","key_properties":["id"],"schema":{"type":"object","properties":{"id":{"type":"string"},"tag":{"type":["string","null"]}}}}
{"type":"RECORD","stream":"tags","record":{"id":"1","tag":"one"}}
{"type":"RECORD","stream":"tags","record":{"id":"2","tag":"two"}}
{"type":"STATE","value":{"bookmarks":{"tags":{"cursor":"x"}}}}
EOF

# target-jsonl: destination_path need not exist (0.1.4 creates it)
printf '{"destination_path": "%s"}\n' "$work/jsonl/out" > jsonl.json
if "$JSONL/target-jsonl" --config jsonl.json < batch1.jsonl > jsonl.state 2> jsonl.log; then
  ok "target-jsonl loads batch 1"
else
  bad "target-jsonl failed on batch 1: $(tail -3 jsonl.log)"
fi
expect_eq "target-jsonl echoes the last STATE" '{"bookmarks": {"contacts": {"cursor": "2024-01-03T00:00:00Z"}}}' "$(tail -1 jsonl.state)"
expect_eq "target-jsonl file name" "contacts-YYYYmmddTHHMMSS.jsonl" "$(ls jsonl/out | sed -E 's/-[0-9]{8}T[0-9]{6}\.jsonl$/-YYYYmmddTHHMMSS.jsonl/')"
expect_eq "singer_check jsonl ids" '{"contacts": ["1", "2", "3"]}' "$("$JSONL/python" "$here/singer_check.py" jsonl jsonl/out)"
expect_eq "target-jsonl keeps keys outside the schema" 1 "$(grep -c '"notInSchema"' jsonl/out/*.jsonl)"

# target-duckdb
printf '{"path": "%s", "default_target_schema": "activecampaign"}\n' "$work/warehouse.duckdb" > duckdb.json
if "$DUCK/target-duckdb" --config duckdb.json < batch1.jsonl > duck1.state 2> duck1.log; then
  ok "target-duckdb loads batch 1"
else
  bad "target-duckdb failed on batch 1: $(tail -3 duck1.log)"
fi
expect_eq "target-duckdb echoes the last STATE" '{"bookmarks": {"contacts": {"cursor": "2024-01-03T00:00:00Z"}}}' "$(tail -1 duck1.state)"
expect_eq "singer_check duckdb ids (schema given)" '{"contacts": ["1", "2", "3"]}' "$("$DUCK/python" "$here/singer_check.py" duckdb warehouse.duckdb activecampaign)"
expect_eq "singer_check duckdb ids (all schemas)" '{"contacts": ["1", "2", "3"]}' "$("$DUCK/python" "$here/singer_check.py" duckdb warehouse.duckdb)"
q() { "$DUCK/python" -c 'import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); print(c.execute(sys.argv[2]).fetchall())' warehouse.duckdb "$1"; }
expect_eq "duckdb columns (lower-cased, dashes kept, object/array as json)" \
  "[('address', 'JSON'), ('createdtimestamp', 'VARCHAR'), ('email', 'VARCHAR'), ('fieldvalues', 'JSON'), ('first-name', 'VARCHAR'), ('id', 'VARCHAR'), ('links', 'JSON'), ('score', 'DOUBLE')]" \
  "$(q "select column_name, data_type from information_schema.columns where table_name='contacts' order by 1")"
expect_eq "duckdb values (empty string -> NULL, links object/[]/{} as JSON text)" \
  "[('1', 'Ann', '{\"lists\": \"https://x/1/lists\"}', '{\"city\": \"Oslo\", \"zip\": \"0150\", \"extra\": \"kept\"}'), ('2', None, '[]', None), ('3', 'Cy', '{}', '{\"city\": null}')]" \
  "$(q 'select id, "first-name", links::varchar, address::varchar from activecampaign.contacts order by id')"

# second (incremental) batch: id 2 changed, id 4 new
if "$DUCK/target-duckdb" --config duckdb.json < batch2.jsonl > duck2.state 2> duck2.log; then
  ok "target-duckdb loads batch 2"
else
  bad "target-duckdb failed on batch 2: $(tail -3 duck2.log)"
fi
ids2=$("$DUCK/python" "$here/singer_check.py" duckdb warehouse.duckdb activecampaign)
row2=$(q "select email, \"first-name\" from activecampaign.contacts where id = '2'")
if [ "$ids2" = '{"contacts": ["1", "2", "3", "4"]}' ] && [ "$row2" = "[('b@x.io', 'Bo')]" ]; then
  ok "target-duckdb UPSERTS by key_properties: changed id 2 updated in place, id 4 added ($ids2)"
elif [ "$ids2" = '{"contacts": ["1", "2", "2", "3", "4"]}' ]; then
  bad "target-duckdb APPENDED: id 2 is duplicated ($ids2)"
else
  bad "target-duckdb after batch 2: ids $ids2, row 2 $row2"
fi

if "$DUCK/target-duckdb" --config duckdb.json < textonly.jsonl > /dev/null 2> duck3.log; then
  expect_eq "all-text batch keeps its first row (duckdb $("$DUCK/python" -c 'import duckdb; print(duckdb.__version__)'))" \
    '{"tags": ["1", "2"]}' "$("$DUCK/python" "$here/singer_check.py" duckdb warehouse.duckdb activecampaign | "$DUCK/python" -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({"tags": d.get("tags")}))')"
else
  bad "target-duckdb failed on the text-only batch: $(tail -3 duck3.log)"
fi

# hard_delete: a RECORD carrying `_sdc_deleted_at` deletes its row (Singer deletions);
# singer_check.py duckdb-rows prints the rows left, keyed by id, JSON columns parsed.
printf '{"path": "%s", "default_target_schema": "activecampaign", "hard_delete": true}\n' "$work/hard.duckdb" > hard.json
SCHEMA_DEL=$(printf '%s' "$SCHEMA" | sed 's/"properties":{"id"/"properties":{"_sdc_deleted_at":{"type":["null","string"],"format":"date-time"},"id"/')
{ echo "$SCHEMA_DEL"
  echo '{"type":"RECORD","stream":"contacts","record":{"id":"3","_sdc_deleted_at":"2024-03-01T00:00:00Z"}}'
  echo '{"type":"RECORD","stream":"contacts","record":{"id":"4","email":"d@x.io","first-name":"Di","score":3,"links":[]}}'
  echo '{"type":"STATE","value":{"bookmarks":{"contacts":{"cursor":"2024-03-01T00:00:00Z"}}}}'
} > deletes.jsonl
if "$DUCK/target-duckdb" --config hard.json < batch1.jsonl > /dev/null 2> hard1.log \
  && "$DUCK/target-duckdb" --config hard.json < deletes.jsonl > /dev/null 2> hard2.log; then
  expect_eq "target-duckdb hard_delete drops the row of a RECORD with _sdc_deleted_at" \
    '{"contacts": ["1", "2", "4"]}' "$("$DUCK/python" "$here/singer_check.py" duckdb hard.duckdb activecampaign)"
  expect_eq "singer_check duckdb-rows: every column, by id (JSON parsed, empty string NULL)" \
    '[{"id": "1", "first-name": "Ann", "score": 1.5, "address": {"city": "Oslo", "extra": "kept", "zip": "0150"}, "links": {"lists": "https://x/1/lists"}, "deleted": null}, {"id": "2", "first-name": null, "score": null, "address": null, "links": [], "deleted": null}]' \
    "$("$DUCK/python" "$here/singer_check.py" duckdb-rows hard.duckdb activecampaign contacts | "$DUCK/python" -c 'import json,sys; t=json.load(sys.stdin)["contacts"]; print(json.dumps([{k: t[i][k] for k in ("id", "first-name", "score", "address", "links")} | {"deleted": t[i]["_sdc_deleted_at"]} for i in ("1", "2")]))')"
else
  bad "target-duckdb with hard_delete failed: $(tail -3 hard1.log hard2.log)"
fi

# target-jsonl validates every RECORD against its schema (Draft 4): `links: []` under a schema
# that only allows an object is refused, so the connector must declare ["object","array","null"].
printf '%s\n' '{"type":"SCHEMA","stream":"t","key_properties":["id"],"schema":{"type":"object","properties":{"id":{"type":"string"},"links":{"type":["object","null"]}}}}' \
  '{"type":"RECORD","stream":"t","record":{"id":"1","links":[]}}' > objonly.jsonl
printf '{"destination_path": "%s"}\n' "$work/jsonl/objonly" > objonly.json
if "$JSONL/target-jsonl" --config objonly.json < objonly.jsonl > /dev/null 2>&1; then
  bad "target-jsonl accepted links: [] under type [object, null] (expected a ValidationError)"
else
  ok "target-jsonl refuses a record that breaks its schema (links: [] vs type [object,null])"
fi

# ---------------------------------------------------------------- Airbyte
cat > airbyte.jsonl <<'EOF'
{"type":"SPEC","spec":{"documentationUrl":"https://x","connectionSpecification":{"type":"object","properties":{}},"supportsIncremental":true,"supported_destination_sync_modes":["overwrite","append","append_dedup"]}}
{"type":"CONNECTION_STATUS","connectionStatus":{"status":"SUCCEEDED","message":"ok"}}
{"type":"CATALOG","catalog":{"streams":[{"name":"tags","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh","incremental"],"source_defined_primary_key":[["id"]],"is_resumable":true,"source_defined_cursor":true,"default_cursor_field":["udate"]}]}}
{"type":"RECORD","record":{"stream":"tags","emitted_at":1700000000000,"data":{"id":"1"}}}
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"tags"},"stream_state":{"cursor":"2024-01-01T00:00:00Z"}},"sourceStats":{"recordCount":1.0}}}
{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1700000000000.0,"stream_status":{"stream_descriptor":{"name":"tags"},"status":"COMPLETE"}}}
{"type":"TRACE","trace":{"type":"ERROR","emitted_at":1700000000000.0,"error":{"message":"m","internal_message":"i","failure_type":"config_error","stream_descriptor":{"name":"accounts"}}}}
{"type":"LOG","log":{"level":"INFO","message":"hi"}}
EOF
out=$("$AB" "$here/validate_airbyte.py" --strict --require SPEC,CONNECTION_STATUS,CATALOG,RECORD,STATE,TRACE,LOG airbyte.jsonl)
rc=$?
expect_eq "airbyte sample validates (strict; rc $rc)" \
  "validated 8 messages (by type: CATALOG=1, CONNECTION_STATUS=1, LOG=1, RECORD=1, SPEC=1, STATE=1, TRACE=2)" "$out"

invalid() { # name expected-text message-line
  printf '%s\n' "$3" > invalid.jsonl
  local out rc
  out=$("$AB" "$here/validate_airbyte.py" airbyte.jsonl invalid.jsonl 2>&1); rc=$?
  if [ $rc -eq 1 ] && grep -q "^invalid.jsonl:1: invalid" <<<"$out" && grep -qF "$2" <<<"$out"; then
    ok "airbyte: $1 is refused ($2)"
  else
    bad "airbyte: $1: rc $rc, output: $out"
  fi
}
invalid "TRACE ERROR with an unknown failure_type" "failure_type" \
  '{"type":"TRACE","trace":{"type":"ERROR","emitted_at":1.0,"error":{"message":"m","failure_type":"oops"}}}'
invalid "RECORD without emitted_at" "emitted_at" '{"type":"RECORD","record":{"stream":"tags","data":{"id":"1"}}}'
invalid "RECORD without its record" "without its \`record\`" '{"type":"RECORD"}'
invalid "an unknown message type" "type" '{"type":"RECORDS","record":{"stream":"t","emitted_at":1,"data":{}}}'
invalid "a line that is not JSON" "not JSON" '{"type":"LOG",'
: > empty.jsonl
out=$("$AB" "$here/validate_airbyte.py" empty.jsonl); rc=$?
if [ $rc -eq 1 ] && grep -q "no messages" <<<"$out"; then ok "airbyte: an empty file is an error"; else bad "airbyte: empty file: rc $rc, $out"; fi
out=$("$AB" "$here/validate_airbyte.py" --require RECORD,CONTROL airbyte.jsonl); rc=$?
if [ $rc -eq 1 ] && grep -q "no message of type CONTROL" <<<"$out"; then ok "airbyte: --require fails on a missing type"; else bad "airbyte: --require: rc $rc, $out"; fi
printf '%s\n' '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"tags"},"stream_state":{}},"source_stats":{"recordCount":1.0}}}' > typo.jsonl
out=$("$AB" "$here/validate_airbyte.py" typo.jsonl); rc=$?
out2=$("$AB" "$here/validate_airbyte.py" --strict typo.jsonl); rc2=$?
if [ $rc -eq 0 ] && grep -q "note: .*state.source_stats" <<<"$out" && [ $rc2 -eq 1 ]; then
  ok "airbyte: a misspelt optional key (source_stats) passes the models, is noted, and fails with --strict"
else
  bad "airbyte: misspelt key: rc $rc/$rc2, $out / $out2"
fi

echo "selftest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
