"""Simulators and training material: devices, citizen reports, a month of cases, a day in an urban village. Clients of the domains' doors and public modules."""
