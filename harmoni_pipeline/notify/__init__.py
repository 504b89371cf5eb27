"""Early-warning notifications: a red FKDM report, a kecamatan turning rawan, the monthly
digest — sent to the responsible officer by e-mail, Telegram and webhooks, once.

Room: the domain of notifications, no Dagster. :mod:`.triggers` finds alerts in the
published tables (DuckDB), :mod:`.contacts` resolves positions to recipients (personal
data kept out of the warehouse), :mod:`.messages` writes them in Indonesian,
:mod:`.channels` speaks SMTP, the Telegram Bot API and webhooks, :mod:`.ledger` records
each message so that it is sent once, :mod:`.delivery` sends with retries and leases,
:mod:`.audit` publishes ``audit.notifications``, :mod:`.service` ties them for the assets,
the retry job and the command line (:mod:`.commands`). docs/notifications.md.
"""
