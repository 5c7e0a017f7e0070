#!/bin/sh
# docker run IMAGE [worker args]            -> the worker (run | migrate | reader-role)
# docker run IMAGE dashboard [--urls ...]   -> the dashboard and REST API
set -e
if [ "$1" = "dashboard" ]; then
  shift
  exec dotnet /app/dashboard/Dashboard.dll "$@"
fi
exec dotnet /app/worker/Worker.dll "$@"
