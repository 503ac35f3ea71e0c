from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.channels import ChannelKind, WelcomeStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Channel',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=64)),
                ('kind', fields.CharEnumField(description='STORE: store\nPOSTER: poster\nPACKAGE: package\nLIVE_ROOM: live_room\nANXIN_CODE: anxin_code\nEVENT: event\nORGANIC: organic\nOTHER: other', enum_type=ChannelKind, max_length=16)),
                ('state', fields.CharField(unique=True, max_length=30)),
                ('config_id', fields.CharField(null=True, unique=True, max_length=64)),
                ('qr_code', fields.CharField(default='', max_length=512)),
                ('guides', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('current_guides', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('daily_caps', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('backup_guide', fields.CharField(default='', max_length=64)),
                ('skip_verify', fields.BooleanField(default=True)),
                ('tag_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('welcome_text', fields.TextField(default='', unique=False)),
                ('welcome_attachments', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('remark_template', fields.CharField(default='', max_length=64)),
                ('active_from', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('active_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('is_default', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'channel', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Attribution',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', db_constraint=True, to_field='id', related_name='attributions', on_delete=OnDelete.RESTRICT)),
                ('staff_userid', fields.CharField(max_length=64)),
                ('external_userid', fields.CharField(max_length=64)),
                ('state', fields.CharField(default='', max_length=64)),
                ('added_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('first_add', fields.BooleanField()),
            ],
            options={'table': 'attribution', 'app': 'models', 'unique_together': (('external_userid', 'staff_userid', 'added_at'),), 'indexes': [Index(fields=['channel_id', 'added_at']), Index(fields=['staff_userid', 'added_at'])], 'pk_attr': 'id', 'table_description': 'One add of a customer to a guide, credited to a channel.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Staff',
            fields=[
                ('userid', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('name', fields.CharField(default='', max_length=64)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'staff', 'app': 'models', 'pk_attr': 'userid', 'table_description': "Guides' names, cached from WeCom `user/get` for welcome placeholders."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TagGroup',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('group_id', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=64)),
                ('order', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'tag_group', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tag',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tag_id', fields.CharField(unique=True, max_length=64)),
                ('group', fields.ForeignKeyField('models.TagGroup', source_field='group_id', db_constraint=True, to_field='id', related_name='tags', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=64)),
                ('order', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'tag', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WelcomeMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', db_constraint=True, to_field='id', related_name='welcomes', on_delete=OnDelete.RESTRICT)),
                ('staff_userid', fields.CharField(max_length=64)),
                ('external_userid', fields.CharField(max_length=64)),
                ('added_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('welcome_code', fields.CharField(default='', max_length=128)),
                ('status', fields.CharEnumField(description='SENT: sent\nCODE_EXPIRED: code_expired\nALREADY_CHATTED: already_chatted\nWECOM_DEFAULT: wecom_default\nNOT_CONFIGURED: not_configured\nFAILED: failed', enum_type=WelcomeStatus, max_length=24)),
                ('errcode', fields.IntField(null=True)),
                ('detail', fields.TextField(default='', unique=False)),
                ('attempts', fields.IntField(default=1)),
                ('finished_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'welcome_message', 'app': 'models', 'unique_together': (('external_userid', 'staff_userid', 'added_at'),), 'pk_attr': 'id', 'table_description': 'What became of the welcome for one add.'},
            bases=['Model'],
        ),
    ]
