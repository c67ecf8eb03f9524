# Orchestrator image: one image for web (ASGI), worker, beat and flower; the
# command differs per service (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000

WORKDIR /app

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app

# Dependencies first, so that source changes don't reinstall them.
# flower (the Celery monitoring UI) is needed only by the image's `flower` service,
# so it is installed here and not listed in requirements.txt.
COPY requirements.txt ./
RUN pip install -r requirements.txt flower==2.2.0

COPY --chown=app:app . .

# Optional: collect static files (admin, browsable API, Swagger UI) into STATIC_ROOT.
# Throwaway secrets: settings only need to import; nothing here is kept in the image.
RUN DJANGO_SECRET_KEY=collectstatic-only \
    ORCHESTRATOR_ENCRYPTION_KEYS="$(python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" \
    python manage.py collectstatic --noinput --verbosity 0 \
    || echo "collectstatic skipped"

USER app

EXPOSE 8000
CMD ["sh", "-c", "exec uvicorn config.asgi:application --host 0.0.0.0 --port ${PORT:-8000}"]
