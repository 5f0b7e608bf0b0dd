"""UrbanBrain: an open-source operations platform ("district brain", 城区大脑) for a city district."""

__version__ = "0.1.0"
