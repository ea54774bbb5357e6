"""Who is asking: users of agencies, their roles, sign-in, sessions, bearer tokens, API keys.

Choices, each documented in its module:

* passwords (``passwords``): argon2id (RFC 9106 low-memory parameters); at least 10 characters
  of 2 kinds or 8 of 3 (KISA / 행정안전부 guidance), not containing the username, none of the
  last 3 passwords;
* browser sessions (``sessions``, ``tokens``): a random 32-byte id in an HttpOnly,
  SameSite=Strict cookie (Secure over https, or as configured), stored as SHA-256; 30 minutes
  idle, 12 hours at most; CSRF by a synchronizer token derived from the session id (HMAC),
  sent as ``X-CSRF-Token`` with every unsafe request;
* integrations: opaque 15-minute bearer tokens (``POST /api/auth/token``) and API keys
  (``keys``), both stored as SHA-256;
* throttling (``throttle``): 5 failures in 15 minutes lock a username for 15 minutes, 20 lock
  a client address; every failure and lock-out is audited;
* who manages whom (``access``): system admins everyone, agency admins their own agency's users
  (never a system admin's account), the console (``argus users``) everything.

Other packages use ``deps.current_principal`` and ``deps.require_roles``.
"""
