"""The services: the only code that writes. Views, consumers, management commands and channel
adapters call them; selectors read.

- ``contacts``: citizens and contacts; personal-data access log and masking of stored text
- ``messages``: conversation messages and their attachments
- ``conversations``: the web chat as citizens and staff use it (start, send, resume, end)
- ``routing``: queues, offers, transfers, wrap-up; ``presence``: agents and their sockets
- ``offers``, ``locking``: shared by routing and presence
- ``callbacks``: call-back requests and their work list
- ``notify``: the events the sockets hear (after commit)
- ``outbox``: every SMS, KakaoTalk message and e-mail, sent after commit by the worker
- ``scheduler``: periodic jobs that run once per period across every process; the worker's
  heartbeat
"""
