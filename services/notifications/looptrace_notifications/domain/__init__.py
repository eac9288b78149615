"""What notifications decides, free of I/O: who hears an event (``rules``), how and when it
reaches them (``delivery``: preferences, quiet hours, retries) and the error every refusal is
(``errors``). The shipped rule book (``rules.yaml`` checked against the shipped templates) is
``looptrace_notifications.rulebook``; rendering the e-mails is ``looptrace_notifications.rendering``.
"""
