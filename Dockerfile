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
ENTRYPOINT ["/bin/sh", "/app/entrypoint.sh"]
