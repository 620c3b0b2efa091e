"""What the form's workflow announces, for the layers above it to act on.

The workflow (evaluations/workflow.py) knows nothing of what other apps do when a form
changes state: it announces each transition once its transaction has committed (a rolled
back step announces nothing), and they subscribe. The exports app queues the approved
form's PDF render (exports/receivers.py). Receivers run one by one (``send_robust``): one
that raises is logged and neither undoes the step nor stops the others.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent by ``workflow.transition_run`` after commit, with sender the ``Transition`` row and
# the keyword arguments ``evaluation_id`` (int), ``action`` (an ``EventAction`` value),
# ``from_status`` and ``to_status`` (``Status`` values).
evaluation_transitioned = Signal()
