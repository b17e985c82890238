"""URLs of the qa pages (included by callcenter.urls)."""

urlpatterns: list = []
