# The application image: Debian's fonts and HarfBuzz subsetter for PDFs, gunicorn as the server.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_VAR_DIR=/var/lib/perfeval
# gettext: msgfmt compiles locale/ (the admin's Chinese for Django's and third-party texts).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk libharfbuzz-subset0 \
    libpango-1.0-0 libpangoft2-1.0-0 gettext \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock ./
# python-ldap (directory sign-in) has no wheels: pip builds it against libldap's headers with a
# compiler, which are removed again; the libraries it links (libldap, libsasl2) stay.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libldap-2.5-0 libsasl2-2 \
 && apt-get install -y --no-install-recommends build-essential libldap2-dev libsasl2-dev \
 && pip install --no-cache-dir -r requirements.lock \
 && apt-get purge -y --auto-remove build-essential libldap2-dev libsasl2-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN msgfmt --check -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po \
 && DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
 && useradd --system --home /app perfeval && mkdir -p /var/lib/perfeval && chown perfeval /var/lib/perfeval
USER perfeval
EXPOSE 8000
# Workers, timeout and logging come from gunicorn.conf.py (WEB_CONCURRENCY, PORT, ...).
CMD ["gunicorn", "config.wsgi"]
