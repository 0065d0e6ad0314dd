"""An order: what the app caches under `order:{id}` (Django keys it `:1:order:{id}`)."""

from django.db import models


class Order(models.Model):
    """One order; writers change its status, total and updated_at."""

    id = models.AutoField(primary_key=True)
    status = models.CharField(max_length=20)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    updated_at = models.DateTimeField()

    class Meta:
        app_label = "shop"
        db_table = "orders"
