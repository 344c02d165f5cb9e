# MoodStream web / worker / beat image: gunicorn serves Django; the same image runs Celery.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# The Russian catalogue is compiled with Babel (requirements.txt); no system gettext needed.
RUN pybabel -q compile -d locale -D django

# Static files are collected at build time with a throwaway key; the real one comes from the environment.
RUN SECRET_KEY=collectstatic-only-not-a-real-secret-0123456789abcdefghijklmnop DEBUG=false \
        PUBLIC_BASE_URL=https://collectstatic.invalid python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 moodstream \
    && mkdir -p /app/media \
    && chown -R moodstream:moodstream /app/media

USER 10001

EXPOSE 8000

# Workers, threads, keep-alive and the access log: moodstream/gunicorn.conf.py (WEB_CONCURRENCY sets the workers).
CMD ["gunicorn", "moodstream.wsgi:application", "--config", "moodstream/gunicorn.conf.py"]
