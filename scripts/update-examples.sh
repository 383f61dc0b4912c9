#!/usr/bin/env bash
# Regenerate every example output: the reports (golden files), the stock-take,
# benchmark, redesign and survey examples, from the models in examples/ and
# process_models/. The output is deterministic: running this twice
# leaves git with nothing to commit. Review the diff before committing it.
#
#   scripts/update-examples.sh            # uses python3 -m sdsaudit
#   SDSAUDIT=sdsaudit scripts/update-examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a run <<<"${SDSAUDIT:-python3 -m sdsaudit}"
export LC_ALL=C  # one sort order for the shell's * globs

# The annual stock-take: Exampleshire 2025 against 2026.
"${run[@]}" compare examples/exampleshire/2025.yaml examples/exampleshire/2026.yaml \
  -o examples/exampleshire/stocktake --force

# Councils side by side, named and anonymised for publication.
"${run[@]}" benchmark examples/benchmark/*.yaml -o examples/benchmark/out --force
"${run[@]}" benchmark examples/benchmark/*.yaml -o examples/benchmark/out-anonymised \
  --anonymise --force

# A hand-written scenario for Exampleshire, and the proposals for the traditional model.
"${run[@]}" whatif examples/exampleshire/2026.yaml examples/redesign/exampleshire/patch.yaml \
  -o examples/redesign/exampleshire/out --force
"${run[@]}" redesign process_models/traditional.yaml -o examples/redesign/traditional/out --force

# The survey evidence beside Exampleshire's model.
"${run[@]}" survey examples/exampleshire/survey.csv --model examples/exampleshire/process.yaml \
  -o examples/exampleshire/survey --force > /dev/null

# The process as recorded: Exampleshire's synthetic case records beside its model (needs
# sdsaudit[calibrate]); the log, the extract and the map are written by the generator.
"${run[0]}" examples/calibrate/generate.py > /dev/null
"${run[@]}" calibrate examples/exampleshire/process.yaml examples/calibrate/events.csv \
  --map examples/calibrate/map.yaml -o examples/calibrate/out --force > /dev/null
"${run[@]}" calibrate examples/exampleshire/process.yaml examples/calibrate/cld.csv \
  --preset cld --group Group -o examples/calibrate/out-cld --force > /dev/null
"${run[@]}" whatif examples/exampleshire/process.yaml examples/calibrate/out/calibrated.patch.yaml \
  -o examples/calibrate/out/as-recorded --force > /dev/null

# The example reports and maps (golden files checked by tests/test_golden.py).
"${run[0]}" -m pytest -q -p no:cacheprovider tests/test_golden.py --update-golden > /dev/null
