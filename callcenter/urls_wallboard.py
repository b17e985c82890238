"""URLs of the wallboard pages (included by callcenter.urls)."""

urlpatterns: list = []
