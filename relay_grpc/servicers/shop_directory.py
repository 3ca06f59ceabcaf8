"""ShopDirectoryService: public shop profiles."""

from __future__ import annotations

from cloudtab.v1 import shop_directory_pb2, shop_directory_pb2_grpc
from grpc import aio

from relay_grpc.servicers.convert import shop_to_proto
from relay_grpc.shops import ShopService


class ShopDirectoryServicer(shop_directory_pb2_grpc.ShopDirectoryServiceServicer):
    """GetShop by slug."""

    def __init__(self, shops: ShopService) -> None:
        self.shops = shops

    async def GetShop(
        self, request: shop_directory_pb2.GetShopRequest, context: aio.ServicerContext
    ) -> shop_directory_pb2.GetShopResponse:
        profile = await self.shops.get_profile(request.slug)
        return shop_directory_pb2.GetShopResponse(shop=shop_to_proto(profile))
