from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.groups import GroupStatus
from models.sop import StepSchedule, TaskStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_tag_rules')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GroupChat',
            fields=[
                ('chat_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('name', fields.CharField(default='', max_length=128)),
                ('owner', fields.CharField(db_index=True, max_length=64)),
                ('notice', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=GroupStatus.ACTIVE, description='ACTIVE: active\nDISMISSED: dismissed', enum_type=GroupStatus, max_length=16)),
                ('owner_status', fields.SmallIntField(default=0)),
                ('admins', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('member_version', fields.CharField(default='', max_length=64)),
                ('member_count', fields.IntField(default=0)),
                ('synced_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('dismissed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'group_chat', 'app': 'models', 'indexes': [Index(fields=['status', 'created_at'])], 'pk_attr': 'chat_id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupJoin',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('config_id', fields.CharField(max_length=64)),
                ('state', fields.CharField(max_length=30)),
                ('chat_id', fields.CharField(max_length=64)),
                ('external_userid', fields.CharField(max_length=64)),
                ('joined_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('tagged', fields.BooleanField(default=False)),
                ('tagged_via', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'group_join', 'app': 'models', 'unique_together': (('chat_id', 'external_userid', 'joined_at'),), 'indexes': [Index(fields=['config_id', 'joined_at'])], 'pk_attr': 'id', 'table_description': 'A customer joining a group through a join way (their member `state`). `tagged`:'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupJoinWay',
            fields=[
                ('config_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('name', fields.CharField(max_length=64)),
                ('state', fields.CharField(unique=True, max_length=30)),
                ('scene', fields.SmallIntField(default=2)),
                ('remark', fields.CharField(default='', max_length=30)),
                ('auto_create_room', fields.BooleanField(default=True)),
                ('room_base_name', fields.CharField(default='', max_length=40)),
                ('room_base_id', fields.IntField(null=True)),
                ('chat_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('qr_code', fields.CharField(default='', max_length=512)),
                ('tag_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'group_join_way', 'app': 'models', 'pk_attr': 'config_id', 'table_description': 'A group QR code (groupchat/add_join_way): up to 5 groups, optionally creating'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupLabel',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('chat_id', fields.CharField(max_length=64)),
                ('label', fields.CharField(max_length=64)),
            ],
            options={'table': 'group_label', 'app': 'models', 'unique_together': (('chat_id', 'label'),), 'indexes': [Index(fields=['label'])], 'pk_attr': 'id', 'table_description': 'An operators\' label on a group (e.g. "store:Shanghai-01", "VIP group"), local'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GroupMember',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('chat_id', fields.CharField(max_length=64)),
                ('userid', fields.CharField(max_length=64)),
                ('type', fields.SmallIntField()),
                ('join_time', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('join_scene', fields.SmallIntField(null=True)),
                ('state', fields.CharField(default='', max_length=30)),
                ('unionid', fields.CharField(default='', max_length=64)),
                ('invitor', fields.CharField(default='', max_length=64)),
                ('group_nickname', fields.CharField(default='', max_length=64)),
                ('name', fields.CharField(default='', max_length=64)),
                ('left_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('quit_scene', fields.SmallIntField(null=True)),
            ],
            options={'table': 'group_member', 'app': 'models', 'unique_together': (('chat_id', 'userid'),), 'indexes': [Index(fields=['userid'])], 'pk_attr': 'id', 'table_description': 'One member of a group. A member who left keeps the row with `left_at` set.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SopEnrollment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plan_id', fields.BigIntField()),
                ('chat_id', fields.CharField(max_length=64)),
                ('enrolled_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sop_enrollment', 'app': 'models', 'unique_together': (('plan_id', 'chat_id'),), 'pk_attr': 'id', 'table_description': 'A group targeted by a plan. `enrolled_at` is when it became part of the plan'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SopPlan',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=64)),
                ('target', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('timezone', fields.CharField(default='Asia/Shanghai', max_length=64)),
                ('enabled', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sop_plan', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SopPush',
            fields=[
                ('msgid', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('plan_id', fields.BigIntField()),
                ('step_id', fields.BigIntField()),
                ('owner', fields.CharField(max_length=64)),
                ('chat_count', fields.IntField()),
                ('pushed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('deadline', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('owner_sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reminders', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('next_poll_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sop_push', 'app': 'models', 'indexes': [Index(fields=['finished_at', 'next_poll_at'])], 'pk_attr': 'msgid', 'table_description': 'One add_msg_template call (one owner, one content, ≤ 2,000 groups) and what'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SopStep',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plan', fields.ForeignKeyField('models.SopPlan', source_field='plan_id', db_constraint=True, to_field='id', related_name='steps', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField(default=0)),
                ('schedule', fields.CharEnumField(description='AFTER_CREATED: after_created\nAFTER_ENROLLED: after_enrolled\nAT: at\nEVERY: every', enum_type=StepSchedule, max_length=16)),
                ('day_offset', fields.IntField(null=True)),
                ('time', fields.CharField(default='', max_length=5)),
                ('at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('every', fields.CharField(default='', max_length=16)),
                ('text', fields.TextField(default='', unique=False)),
                ('attachments', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('retired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sop_step', 'app': 'models', 'pk_attr': 'id', 'table_description': "One step of a plan. Editing a plan keeps a step's id (and so its sent tasks)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SopTask',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plan_id', fields.BigIntField()),
                ('step_id', fields.BigIntField()),
                ('chat_id', fields.CharField(max_length=64)),
                ('occurrence', fields.CharField(max_length=20)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('owner', fields.CharField(default='', max_length=64)),
                ('status', fields.CharEnumField(description='PENDING: pending\nSENDING: sending\nPUSHED: pushed\nSENT: sent\nNOT_SENT: not_sent\nFAILED: failed\nSKIPPED_LIMIT: skipped_limit\nMISSED: missed\nMANUAL: manual', enum_type=TaskStatus, max_length=16)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('msgid', fields.CharField(default='', max_length=64)),
                ('error', fields.TextField(default='', unique=False)),
                ('pushed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sop_task', 'app': 'models', 'unique_together': (('plan_id', 'step_id', 'chat_id', 'occurrence'),), 'indexes': [Index(fields=['status', 'due_at']), Index(fields=['chat_id', 'pushed_at']), Index(fields=['msgid']), Index(fields=['plan_id', 'step_id', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
