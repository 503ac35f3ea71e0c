from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.contacts import FollowStatus
from models.events import EventStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Customer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('external_userid', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(default='', max_length=128)),
                ('avatar', fields.CharField(default='', max_length=512)),
                ('type', fields.SmallIntField(default=0)),
                ('gender', fields.SmallIntField(default=0)),
                ('unionid', fields.CharField(null=True, db_index=True, max_length=64)),
                ('corp_name', fields.CharField(default='', max_length=128)),
                ('corp_full_name', fields.CharField(default='', max_length=256)),
                ('position', fields.CharField(default='', max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'customer', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FollowRelation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='follows', on_delete=OnDelete.CASCADE)),
                ('staff_userid', fields.CharField(max_length=64)),
                ('remark', fields.CharField(default='', max_length=128)),
                ('description', fields.CharField(default='', max_length=512)),
                ('state', fields.CharField(default='', max_length=64)),
                ('add_way', fields.SmallIntField(default=0)),
                ('oper_userid', fields.CharField(default='', max_length=64)),
                ('added_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('tag_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=FollowStatus.ACTIVE, description='ACTIVE: active\nHALF: half\nDELETED_BY_STAFF: deleted_by_staff\nDELETED_BY_CUSTOMER: deleted_by_customer', enum_type=FollowStatus, max_length=24)),
                ('deleted_source', fields.CharField(default='', max_length=64)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('status_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'follow_relation', 'app': 'models', 'unique_together': (('customer', 'staff_userid'),), 'pk_attr': 'id', 'table_description': "A staff member's relation to a customer. Deletions keep the row: history matters"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboxEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('dedupe_key', fields.CharField(unique=True, max_length=64)),
                ('event', fields.CharField(max_length=64)),
                ('change_type', fields.CharField(default='', max_length=64)),
                ('payload', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=EventStatus.PENDING, description='PENDING: pending\nPROCESSING: processing\nDONE: done\nFAILED: failed\nIGNORED: ignored', enum_type=EventStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbox_event', 'app': 'models', 'indexes': [Index(fields=['status', 'received_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SyncCheckpoint',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('state', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'sync_checkpoint', 'app': 'models', 'pk_attr': 'name', 'table_description': 'Where a resumable job stopped: `state` holds its position (e.g. staff done, cursor).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TransferFailure',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff_userid', fields.CharField(max_length=64)),
                ('external_userid', fields.CharField(max_length=64)),
                ('reason', fields.CharField(max_length=64)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'transfer_failure', 'app': 'models', 'unique_together': (('staff_userid', 'external_userid', 'occurred_at'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
