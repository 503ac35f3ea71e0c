from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_channels_and_tags')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TagRule',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=64)),
                ('channel_kind', fields.CharField(default='', max_length=16)),
                ('state_prefix', fields.CharField(default='', max_length=30)),
                ('add_way', fields.IntField(null=True)),
                ('customer_type', fields.SmallIntField(null=True)),
                ('tag_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tag_rule', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Tags every matching new contact gets, whatever the channel: e.g. all adds through'},
            bases=['Model'],
        ),
    ]
