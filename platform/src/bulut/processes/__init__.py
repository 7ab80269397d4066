"""Local processes: supervised the way Kubernetes supervises containers (pure decisions), and
the garbage collector of a long-running one (:mod:`.collector`)."""
