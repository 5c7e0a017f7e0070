# One image, two entry points: the worker (default) and the dashboard ("dashboard" as the first argument).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Worker/Worker.csproj -c Release -o /app/worker \
 && dotnet publish src/Dashboard/Dashboard.csproj -c Release -o /app/dashboard

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app /app
COPY scripts/docker-entrypoint.sh /app/entrypoint.sh
USER app
# 8080: the worker's /healthz and /readyz (Health__Urls); 5080: the dashboard and REST API (with --urls http://0.0.0.0:5080).
EXPOSE 8080 5080
# Readiness of whichever role runs: the entry point writes its /readyz URL where 'Worker probe' reads it.
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 CMD ["dotnet", "/app/worker/Worker.dll", "probe"]
ENTRYPOINT ["/bin/sh", "/app/entrypoint.sh"]
