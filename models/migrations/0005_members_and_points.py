from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.members import IdentityKind, MemberStatus
from models.points import EntryKind, OrderStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_groups_and_sop')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CheckIn',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField()),
                ('day', fields.DateField()),
                ('streak', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'check_in', 'app': 'models', 'unique_together': (('member_id', 'day'),), 'pk_attr': 'id', 'table_description': "A member's daily check-in (the day in Asia/Shanghai) and the streak it made."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ImportedOrder',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.CharField(max_length=32)),
                ('order_id', fields.CharField(max_length=64)),
                ('member_id', fields.BigIntField(null=True)),
                ('identity_kind', fields.CharField(max_length=32)),
                ('identity_value', fields.CharField(max_length=128)),
                ('amount_cents', fields.BigIntField()),
                ('paid_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(description='PAID: paid\nREFUNDED: refunded', enum_type=OrderStatus, max_length=16)),
                ('points', fields.IntField(default=0)),
                ('growth', fields.IntField(default=0)),
                ('imported_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('refunded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'imported_order', 'app': 'models', 'unique_together': (('channel', 'order_id'),), 'indexes': [Index(fields=['identity_kind', 'identity_value'])], 'pk_attr': 'id', 'table_description': 'An order from another sales channel (Tmall, JD, Douyin, POS …) as imported.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Member',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('nickname', fields.CharField(default='', max_length=64)),
                ('avatar', fields.CharField(default='', max_length=512)),
                ('birthday', fields.DateField(null=True)),
                ('consents', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('level', fields.SmallIntField(default=1)),
                ('growth', fields.IntField(default=0)),
                ('points', fields.IntField(default=0)),
                ('guide_userid', fields.CharField(null=True, max_length=64)),
                ('status', fields.CharEnumField(default=MemberStatus.ACTIVE, description='ACTIVE: active\nMERGED: merged\nERASED: erased', enum_type=MemberStatus, max_length=16)),
                ('merged_into', fields.ForeignKeyField('models.Member', source_field='merged_into_id', null=True, db_constraint=True, to_field='id', related_name='absorbed', on_delete=OnDelete.RESTRICT)),
                ('phone_cipher', fields.CharField(null=True, max_length=128)),
                ('phone_hash', fields.CharField(null=True, unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('erased_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'member', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LevelChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='level_changes', on_delete=OnDelete.CASCADE)),
                ('from_level', fields.SmallIntField()),
                ('to_level', fields.SmallIntField()),
                ('growth', fields.IntField()),
                ('reason', fields.CharField(default='', max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'level_change', 'app': 'models', 'indexes': [Index(fields=['member_id', 'at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MemberIdentity',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='identities', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='OPENID: openid\nUNIONID: unionid\nEXTERNAL_USERID: external_userid\nPHONE: phone\nTMALL: tmall\nJD: jd\nDOUYIN: douyin\nPOS: pos', enum_type=IdentityKind, max_length=24)),
                ('value', fields.CharField(max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'member_identity', 'app': 'models', 'unique_together': (('kind', 'value'),), 'indexes': [Index(fields=['member_id'])], 'pk_attr': 'id', 'table_description': 'One id of a member on one channel: every identity points to exactly one member.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MemberMerge',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('survivor', fields.ForeignKeyField('models.Member', source_field='survivor_id', db_constraint=True, to_field='id', related_name='merges_survived', on_delete=OnDelete.RESTRICT)),
                ('merged', fields.ForeignKeyField('models.Member', source_field='merged_id', db_constraint=True, to_field='id', related_name='merges_absorbed', on_delete=OnDelete.RESTRICT)),
                ('reason', fields.CharField(max_length=32)),
                ('moved', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'member_merge', 'app': 'models', 'unique_together': (('merged',),), 'pk_attr': 'id', 'table_description': 'Audit of a merge: `merged` was found to be the same person as `survivor`, and'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MemberSession',
            fields=[
                ('token_hash', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('client', fields.CharField(default='', max_length=128)),
                ('session_key_cipher', fields.CharField(default='', max_length=256)),
            ],
            options={'table': 'member_session', 'app': 'models', 'indexes': [Index(fields=['member_id'])], 'pk_attr': 'token_hash', 'table_description': 'A mini-program session. The key is the SHA-256 of the opaque token the client'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PointsEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member_id', fields.BigIntField()),
                ('delta', fields.IntField()),
                ('growth_delta', fields.IntField(default=0)),
                ('kind', fields.CharEnumField(description='EARN: earn\nSPEND: spend\nEXPIRE: expire\nREVERSE: reverse\nADJUST: adjust\nMERGE: merge', enum_type=EntryKind, max_length=16)),
                ('key', fields.CharField(unique=True, max_length=255)),
                ('reason', fields.CharField(default='', max_length=255)),
                ('operator', fields.CharField(default='', max_length=64)),
                ('balance_after', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('remaining', fields.IntField(default=0)),
            ],
            options={'table': 'points_entry', 'app': 'models', 'indexes': [Index(fields=['member_id', 'id']), Index(fields=['remaining', 'expires_at'])], 'pk_attr': 'id', 'table_description': "One movement of a member's points and growth. Rows are never deleted, and only"},
            bases=['Model'],
        ),
    ]
