from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("tokens", views.ApiTokenViewSet, basename="api-token")

urlpatterns = router.urls
