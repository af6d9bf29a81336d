"""gunicorn's settings for every way the service is served; gunicorn reads this file itself."""

# The longest request line gunicorn takes (its maximum). Past it gunicorn answers a 414 of its
# own, in HTML, before the service sees the request: at the default 4094 a list URL with a
# few long filters already got one.
limit_request_line = 8190
