from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.mall import ItemKind, OrderState, StockKind
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_members_and_points')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CouponCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('item_id', fields.BigIntField()),
                ('code', fields.CharField(max_length=128)),
                ('order_id', fields.BigIntField(null=True)),
                ('uploaded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'coupon_code', 'app': 'models', 'unique_together': (('item_id', 'code'),), 'indexes': [Index(fields=['item_id', 'order_id']), Index(fields=['order_id'])], 'pk_attr': 'id', 'table_description': "A code of a coupon item's pool, `order_id` set when an order took it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MallItem',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=64)),
                ('images', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('description', fields.TextField(default='', unique=False)),
                ('kind', fields.CharEnumField(description='PHYSICAL: physical\nCOUPON: coupon\nBENEFIT: benefit', enum_type=ItemKind, max_length=16)),
                ('points_price', fields.IntField()),
                ('stock', fields.IntField(default=0)),
                ('per_member_limit', fields.IntField(null=True)),
                ('per_member_daily_limit', fields.IntField(null=True)),
                ('levels', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('on_shelf', fields.BooleanField(default=True)),
                ('shelf_from', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('shelf_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sort_order', fields.IntField(default=0)),
                ('benefit', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mall_item', 'app': 'models', 'indexes': [Index(fields=['sort_order', 'id'])], 'pk_attr': 'id', 'table_description': 'An item of the mall. `levels` lists the levels that may redeem it (empty: every'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MallOrder',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField()),
                ('item_id', fields.BigIntField()),
                ('kind', fields.CharEnumField(description='PHYSICAL: physical\nCOUPON: coupon\nBENEFIT: benefit', enum_type=ItemKind, max_length=16)),
                ('title', fields.CharField(max_length=64)),
                ('quantity', fields.IntField()),
                ('points', fields.IntField()),
                ('status', fields.CharEnumField(description='CREATED: created\nSHIPPED: shipped\nCOMPLETED: completed\nCANCELLED: cancelled', enum_type=OrderState, max_length=16)),
                ('idempotency_key', fields.CharField(max_length=128)),
                ('request_hash', fields.CharField(max_length=64)),
                ('day', fields.DateField()),
                ('address_cipher', fields.TextField(null=True, unique=False)),
                ('carrier', fields.CharField(null=True, max_length=32)),
                ('tracking_number', fields.CharField(null=True, max_length=64)),
                ('cancelled_by', fields.CharField(null=True, max_length=64)),
                ('cancel_reason', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('shipped_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mall_order', 'app': 'models', 'unique_together': (('member_id', 'idempotency_key'),), 'indexes': [Index(fields=['member_id', 'item_id', 'day']), Index(fields=['status', 'shipped_at']), Index(fields=['item_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A redemption. (`member_id`, `idempotency_key`) is unique: the same request sent'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MemberBenefit',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField()),
                ('order_id', fields.BigIntField(unique=True)),
                ('code', fields.CharField(max_length=64)),
                ('title', fields.CharField(max_length=64)),
                ('valid_from', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('valid_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'member_benefit', 'app': 'models', 'indexes': [Index(fields=['member_id', 'valid_until'])], 'pk_attr': 'id', 'table_description': 'A benefit an order granted: `code` names it for the systems that honour it (e.g.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StockMovement',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('item_id', fields.BigIntField()),
                ('delta', fields.IntField()),
                ('kind', fields.CharEnumField(description='INITIAL: initial\nADJUST: adjust\nCODES: codes\nORDER: order\nCANCEL: cancel', enum_type=StockKind, max_length=16)),
                ('key', fields.CharField(max_length=160)),
                ('reason', fields.CharField(default='', max_length=255)),
                ('operator', fields.CharField(default='', max_length=64)),
                ('stock_after', fields.IntField()),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'stock_movement', 'app': 'models', 'unique_together': (('item_id', 'key'),), 'pk_attr': 'id', 'table_description': "One change of an item's stock: the item's stock is the sum of their deltas."},
            bases=['Model'],
        ),
    ]
