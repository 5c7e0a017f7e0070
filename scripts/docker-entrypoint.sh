#!/bin/sh
# docker run IMAGE [worker args]            -> the worker (run | migrate | reader-role | probe); health on :8080
# docker run IMAGE dashboard [--urls ...]   -> the dashboard and REST API
# Each role writes its readiness URL to /tmp/agent-readyz-url for the image's HEALTHCHECK ('Worker probe').
set -e
if [ "$1" = "dashboard" ]; then
  shift
  port=5080
  prev=""
  for arg in "$@"; do
    if [ "$prev" = "--urls" ]; then port=$(echo "$arg" | sed -n 's#.*:\([0-9][0-9]*\).*#\1#p'); fi
    prev=$arg
  done
  echo "http://127.0.0.1:${port:-5080}/readyz" > /tmp/agent-readyz-url
  exec dotnet /app/dashboard/Dashboard.dll "$@"
fi
export Health__Urls="${Health__Urls:-http://0.0.0.0:8080}"
echo "http://127.0.0.1:$(echo "$Health__Urls" | sed -n 's#.*:\([0-9][0-9]*\).*#\1#p')/readyz" > /tmp/agent-readyz-url
exec dotnet /app/worker/Worker.dll "$@"
