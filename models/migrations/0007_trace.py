from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.trace import BatchStatus, BizStep
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_mall')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Batch',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product_id', fields.BigIntField()),
                ('gtin', fields.CharField(max_length=14)),
                ('lot', fields.CharField(max_length=20)),
                ('production_date', fields.DateField()),
                ('expiry_date', fields.DateField(null=True)),
                ('factory', fields.CharField(default='', max_length=128)),
                ('qa_report_url', fields.CharField(default='', max_length=512)),
                ('qa_report_hash', fields.CharField(default='', max_length=128)),
                ('status', fields.CharEnumField(default=BatchStatus.ACTIVE, description='ACTIVE: active\nRECALLED: recalled', enum_type=BatchStatus, max_length=16)),
                ('region', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('pin_required', fields.BooleanField(default=False)),
                ('recalled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'trace_batch', 'app': 'models', 'unique_together': (('gtin', 'lot'),), 'indexes': [Index(fields=['lot'])], 'pk_attr': 'id', 'table_description': 'A lot of a product. `region` lists the provinces or cities it is sold in (empty:'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CodeScan',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('serial', fields.CharField(max_length=20)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('city', fields.CharField(default='', max_length=64)),
                ('member_id', fields.BigIntField(null=True)),
                ('verdict', fields.CharField(max_length=24)),
                ('client', fields.CharField(default='', max_length=16)),
            ],
            options={'table': 'code_scan', 'app': 'models', 'indexes': [Index(fields=['serial', 'at'])], 'pk_attr': 'id', 'table_description': 'One scan of a code by a person (crawlers and link previews are not recorded),'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Product',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('gtin', fields.CharField(unique=True, max_length=14)),
                ('name', fields.CharField(max_length=64)),
                ('sku', fields.CharField(default='', max_length=64)),
                ('images', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('tags', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('channel_id', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'trace_product', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A trade item. `tags` ([{group, name}]) are what a shopper who adds a guide from'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TraceCode',
            fields=[
                ('serial', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=20)),
                ('batch_id', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('verified_city', fields.CharField(null=True, max_length=64)),
                ('verified_member_id', fields.BigIntField(null=True)),
                ('verifications', fields.IntField(default=0)),
                ('scans', fields.IntField(default=0)),
                ('pin_failures', fields.IntField(default=0)),
                ('locked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'trace_code', 'app': 'models', 'indexes': [Index(fields=['batch_id'])], 'pk_attr': 'serial', 'table_description': 'One printed code (one unit).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TraceEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('batch_id', fields.BigIntField()),
                ('event_time', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('time_zone_offset', fields.CharField(max_length=6)),
                ('biz_step', fields.CharEnumField(description='COMMISSIONING: commissioning\nINSPECTING: inspecting\nPACKING: packing\nSHIPPING: shipping\nRECEIVING: receiving\nRETAIL_SELLING: retail_selling', enum_type=BizStep, max_length=24)),
                ('disposition', fields.CharField(default='', max_length=32)),
                ('location', fields.CharField(default='', max_length=128)),
                ('party', fields.CharField(default='', max_length=128)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('key', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'trace_event', 'app': 'models', 'unique_together': (('batch_id', 'key'),), 'indexes': [Index(fields=['batch_id', 'event_time'])], 'pk_attr': 'id', 'table_description': 'One EPCIS-shaped event of a batch: when (with the zone offset it happened in),'},
            bases=['Model'],
        ),
    ]
