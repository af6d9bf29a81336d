"""gunicorn's settings for every way the service is served; gunicorn reads this file itself."""

# The longest request line gunicorn takes (its maximum). Past it gunicorn answers a 414 of its
# own, in HTML, before the service sees the request: at the default 4094 a list URL with a
# few long filters already got one.
limit_request_line = 8190

# The Procfile's `web` names only the application: gunicorn itself binds 0.0.0.0:$PORT and runs
# $WEB_CONCURRENCY workers when those are set (its documented defaults), so a platform, honcho,
# the image and the compose file all start the same command.
accesslog = "-"
