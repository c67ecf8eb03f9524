"""Outbound safety: ``netguard`` (the SSRF guard every outbound HTTP call goes through,
pinned to the address it checked, re-checked on every redirect) and ``redaction``
(masking secrets in outputs, events, logs and errors).

May import: settings and the standard library only; everything else may import it.
"""
