"""Crowd zones (人群聚集区域): occupancy and density from counters, cameras and phone signal, fused in event
time; forecasts 5-15 minutes ahead and warnings before a crowd becomes dangerous (负一秒预警)."""
