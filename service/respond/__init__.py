"""The phone pages a link in an SMS opens: one incident, or legal's approval of one version."""
