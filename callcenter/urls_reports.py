"""URLs of the reports pages (included by callcenter.urls)."""

urlpatterns: list = []
