"""gunicorn's settings for every way the service is served; gunicorn reads this file itself."""

import os

from project.startup import settings_or_exit

# The settings load here, in the master, before gunicorn logs a line or forks a worker: a
# configuration error ends gunicorn with one line naming the variable, not a traceback (from
# gunicorn's config loader, then from every worker).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
settings = settings_or_exit()

# The longest request line gunicorn takes (its maximum). Past it gunicorn answers a 414 of its
# own, in HTML, before the service sees the request: at the default 4094 a list URL with a
# few long filters already got one.
limit_request_line = 8190

# The Procfile's `web` names only the application: gunicorn itself binds 0.0.0.0:$PORT and runs
# $WEB_CONCURRENCY workers when those are set (its documented defaults), so a platform, honcho,
# the image and the compose file all start the same command.
accesslog = "-"

# gunicorn's own lines, the master's included (it never loads Django), and its access line go
# through the service's logging configuration: the same format, the same handler. The settings
# module reads LOG_FORMAT and LOG_LEVEL as the application does.
logconfig_dict = settings.LOGGING

# gunicorn 25+ opens a control socket at one fixed path per user (~/.gunicorn/gunicorn.ctl):
# two gunicorns on a machine (tests, the bench, honcho beside `make run`) would take it from
# each other. Nothing here uses gunicornc.
control_socket_disable = True
