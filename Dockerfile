# busbot: `busbot serve` (Slack, probes, metrics, dashboard, admin API) on $PORT.
# Build: docker build -t busbot .   Run: docs/deploy.md
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
COPY templates ./templates
RUN pip install . \
 && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin busbot

# a numeric user, so Kubernetes can check runAsNonRoot without looking into /etc/passwd
USER 10001:10001
EXPOSE 3000
CMD ["busbot", "serve"]
