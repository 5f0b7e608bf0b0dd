"""Crowd scenarios simulated with JuPedSim (venues, runs, virtual counters and cameras, randomised suites):
a client of the crowd domain, feeding it through the sensing platform's doors like real devices."""
