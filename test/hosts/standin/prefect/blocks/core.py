"""The stand-in's Block: what `prefect block register` reads from a block class (blocks/core.py): its type's
name and slug, and its fields as a JSON schema with the secret ones listed. Fields are class annotations,
a secret one annotated SecretStr, as pydantic's is; a field with a class default is optional."""
import re


class SecretStr(str):
    """pydantic.SecretStr, as a block's field type: the field is secret."""


JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}


class Block:
    _block_type_name = None
    _block_type_slug = None
    _description = None

    @classmethod
    def block_type_name(cls):
        return cls._block_type_name or cls.__name__

    @classmethod
    def block_type_slug(cls):
        """Block.get_block_type_slug: the name in kebab case."""
        return cls._block_type_slug or re.sub(r"[^a-z0-9]+", "-", re.sub(r"(?<!^)(?=[A-Z])", "-", cls.block_type_name()).lower()).strip("-")

    @classmethod
    def schema_fields(cls):
        annotations = {k: v for k, v in cls.__dict__.get("__annotations__", {}).items() if not k.startswith("_")}
        properties, required, secret = {}, [], []
        for name, kind in annotations.items():
            if kind is SecretStr:
                properties[name] = {"title": name.replace("_", " ").title(), "type": "string", "format": "password", "writeOnly": True}
                secret.append(name)
            else:
                properties[name] = {"title": name.replace("_", " ").title(), "type": JSON_TYPES.get(kind, "string")}
            if name in cls.__dict__:
                properties[name]["default"] = cls.__dict__[name]
            else:
                required.append(name)
        fields = {"title": cls.block_type_name(), "type": "object", "properties": properties,
                  "block_type_slug": cls.block_type_slug(), "secret_fields": secret, "block_schema_references": {}}
        if required:
            fields["required"] = required
        return fields
