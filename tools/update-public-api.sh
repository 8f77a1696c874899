#!/usr/bin/env bash
# Brings a project's PublicAPI.Unshipped.txt up to date: adds every public symbol the PublicApiAnalyzers report as
# undeclared (RS0016) and removes every declared one that no longer exists (RS0017).
# Usage: tools/update-public-api.sh src/AsyncQueue/AsyncQueue.csproj
set -euo pipefail
project=$1
dir=$(dirname "$project")
file="$dir/PublicAPI.Unshipped.txt"
out=$(dotnet build "$project" --no-incremental 2>&1 || true)
grep -o "RS0016: Symbol '.*' is not part of the declared public API" <<<"$out" \
  | sed -E "s/^RS0016: Symbol '(.*)' is not part of the declared public API$/\1/" | sort -u >> "$file" || true
grep -o "RS0017: Symbol '.*' is part of the declared API" <<<"$out" \
  | sed -E "s/^RS0017: Symbol '(.*)' is part of the declared API$/\1/" | sort -u > "$file.gone" || true
{ head -1 "$file"; tail -n +2 "$file" | grep -vxFf "$file.gone" | sort -u; } > "$file.new" || true
mv "$file.new" "$file"
rm -f "$file.gone"
