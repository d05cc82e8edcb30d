import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BatonAuthModule } from '@baton/auth';
import { serviceStoreModule } from '@baton/persistence';
import { HealthController } from './health.controller';
import { InitialProfileSchema1732300000001 } from './migrations/1732300000001-initial-profile-schema';
import { ProfileController } from './profile.controller';
import { ProfileEntity } from './profile.entity';
import { ProfileService } from './profile.service';

@Module({
  imports: [
    BatonAuthModule.forRoot({ service: 'profile' }),
    serviceStoreModule('profile', [ProfileEntity], [InitialProfileSchema1732300000001]),
    TypeOrmModule.forFeature([ProfileEntity]),
  ],
  controllers: [ProfileController, HealthController],
  providers: [ProfileService],
})
export class ProfileAppModule {}
