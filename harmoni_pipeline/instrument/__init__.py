"""The survey instrument as forms: the respondent code lists (:mod:`.codes`), the
KoboToolbox XLSForm and the Google Forms question list (:mod:`.forms`), and the
``harmoni form`` command (:mod:`.cli`). See ``docs/connectors.md`` ("The instrument")."""
