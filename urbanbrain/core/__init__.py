"""The base technology platform (T platform, 基础技术平台): what every domain stands on."""
